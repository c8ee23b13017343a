"""The system of record: stolen, lost, revoked and invalidated travel documents."""
