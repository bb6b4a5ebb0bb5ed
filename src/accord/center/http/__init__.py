"""The HTTP layer, the only part that imports FastAPI: the application, problem mapping,
authentication, the middlewares, the page and the shared route schemas."""
