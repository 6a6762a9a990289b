# The SDK's run, and docker port.
client.containers.run(f"site-{RUN}", name=f"api-{RUN}", labels=LABELS, detach=True,
                      ports={"8000/tcp": (HOST_IP, None)})
api_port = int(out(f"docker port api-{RUN} 8000/tcp").split(":")[-1])
