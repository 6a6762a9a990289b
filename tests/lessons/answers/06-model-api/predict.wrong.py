# Rejected with: never predicted that flower
# The app in this kernel, with FastAPI's test client: no container involved.
flower = {"sepal_length_cm": 6.3, "sepal_width_cm": 3.3, "petal_length_cm": 6.0,
          "petal_width_cm": 2.5}
with TestClient(app) as local:
    predicted_species = local.post("/predict", json=flower).json()["species"]
