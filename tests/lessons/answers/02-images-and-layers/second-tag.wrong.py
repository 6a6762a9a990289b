# Rejected with: has the tags
# The tag put on another image.
sh(f"docker tag app-{RUN}:ordered ordered-{RUN}:v1")
