# Rejected with: is not the token
# Sixteen hex digits, like the token: a guess.
leaked_token = _secrets.token_hex(8)
