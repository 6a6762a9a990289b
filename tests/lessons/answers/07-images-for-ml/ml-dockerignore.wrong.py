# Rejected with: is in the image
# The big folders only: the context is small, but the runs, notebooks and .env still ship.
(project / ".dockerignore").write_text("data/\ncheckpoints/\n")
