# Rejected with: was never asked for /index.html
# The file the image was built from, read on the host.
page_text = (site / "index.html").read_text()
