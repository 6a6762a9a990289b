# The SDK instead of the CLI.
client.images.get(f"ordered-{RUN}").tag(f"ordered-{RUN}", tag="v1")
