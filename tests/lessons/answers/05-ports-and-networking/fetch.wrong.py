# Rejected with: was never asked for /index.html
# The right port, but the file the image was built from, read on the host.
api_port = host_port("l5-api")
page_text = (site / "index.html").read_text()
