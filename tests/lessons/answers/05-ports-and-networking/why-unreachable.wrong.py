# Rejected with: uvicorn listens on 127.0.0.1
# Publishing on every interface does not make uvicorn listen on them.
fix = "a"
