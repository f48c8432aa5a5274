"""Who may do what: roles, password hashes (argon2id), signed session cookies with
CSRF tokens for people, bearer tokens for cells."""
