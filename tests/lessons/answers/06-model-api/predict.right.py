# The standard library, with the key read from .env.
import urllib.request

key = (project / ".env").read_text().strip().split("=", 1)[1]
body = json.dumps({"sepal_length_cm": 6.3, "sepal_width_cm": 3.3, "petal_length_cm": 6.0,
                   "petal_width_cm": 2.5}).encode()
request = urllib.request.Request(f"{url}/predict", data=body, headers={"X-API-Key": key,
                                 "Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=10) as answer:
    predicted_species = json.load(answer)["species"]
