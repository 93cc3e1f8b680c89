"""The service desk's one router, assembled from its parts in the order of their paths."""

from ninja import Router

from thirdway.tickets.api import (
    absences,
    articles,
    dispatch_surge,
    dispatch_switches,
    incident_links,
    offers,
    tickets,
    webhooks,
)

PARTS = (
    tickets,
    articles,
    webhooks,
    absences,
    offers,
    dispatch_switches,
    incident_links,
    dispatch_surge,
)

router = Router()
for part in PARTS:
    # Operation ids stay those of the days the API was one module, so that clients generated
    # from the OpenAPI document keep their method names.
    for path_view in part.router.path_operations.values():
        for operation in path_view.operations:
            operation.operation_id = f"thirdway_tickets_api_{operation.view_func.__name__}"
    router.add_router("", part.router)
