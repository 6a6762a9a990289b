# The docker SDK's restart_policy.
client.containers.run(
    f"fixed-{RUN}",
    name=f"service-{RUN}",
    labels=LABELS,
    detach=True,
    restart_policy={"Name": "on-failure", "MaximumRetryCount": 3},
)
