# docker port, and the standard library instead of httpx.
import urllib.request

api_port = int(out("docker port l5-api 8000/tcp").splitlines()[0].rsplit(":", 1)[1])
with urllib.request.urlopen(f"http://{HOST_IP}:{api_port}/index.html", timeout=5) as page:
    page_text = page.read().decode()
