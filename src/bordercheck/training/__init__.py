"""Training sandbox: a synthetic world of bureaus, documents and travellers."""
