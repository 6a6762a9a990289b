# Rejected with: mount the same volume
# A new container without the volume, and the count typed in.
sh(f"docker rm -f final-{RUN}")
again = start(f"model-api-{RUN}:second", f"again-{RUN}", f"--env-file {project / '.env'}")
wait_ready(again)
count_after = 1
