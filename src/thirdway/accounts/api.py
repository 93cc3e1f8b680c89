"""API of the signed-in account."""

from ninja import Router, Schema

router = Router()


class MeOut(Schema):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    role: str
    has_second_factor: bool


@router.get("/me", response=MeOut)
def me(request):
    """Who the token or session belongs to, and their role."""
    return request.auth
