# The standard library instead of httpx.
import urllib.request

with urllib.request.urlopen(f"http://{HOST_IP}:{api_port}/index.html", timeout=5) as page:
    page_text = page.read().decode()
