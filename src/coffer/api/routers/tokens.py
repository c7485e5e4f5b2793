from coffer.api.routing import CofferRouter

router = CofferRouter(tags=["tokens"])
