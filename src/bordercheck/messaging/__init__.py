"""Messages between bureaus: threads, encrypted bodies and attachments, signatures, receipts."""
