# docker stop then rm, and --mount instead of -v.
sh(f"docker stop final-{RUN} && docker rm final-{RUN}")
again_url = start(f"model-api-{RUN}:second", f"again-{RUN}",
                  f"--env-file {project / '.env'} --mount source={volume},target=/data")
wait_ready(again_url)
count_after = int(httpx.get(f"{again_url}/predictions/count").json()["count"])
