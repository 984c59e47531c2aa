"""One module per resource; each builds its ``APIRouter`` from the settings, so the bounds a route
enforces are the bounds OpenAPI states."""
