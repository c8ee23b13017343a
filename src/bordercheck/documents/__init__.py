"""Travel documents: MRZs, countries, document types and numbers. Pure logic, no I/O."""
