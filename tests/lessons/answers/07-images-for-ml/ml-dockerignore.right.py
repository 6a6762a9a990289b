# An allow-list: nothing but what the image needs (Dockerfile and .dockerignore are sent anyway).
(project / ".dockerignore").write_text("*\n!src/\n!models/\n!requirements.txt\n")
