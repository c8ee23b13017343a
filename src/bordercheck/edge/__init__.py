"""The offline border kit: its file formats, the centre's side of syncing, the kit itself."""
