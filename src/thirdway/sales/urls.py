from django.urls import path

from thirdway.sales import views

app_name = "sales"
urlpatterns = [
    path("", views.lead_list, name="lead_list"),
    path("leads/<int:lead_id>/", views.lead_detail, name="lead_detail"),
    path(
        "opportunities/<int:opportunity_id>/", views.opportunity_detail, name="opportunity_detail"
    ),
    path("board/", views.board, name="board"),
    path("board/<int:opportunity_id>/move/", views.board_move, name="board_move"),
    path("proposals/<int:proposal_id>/", views.proposal_detail, name="proposal_detail"),
    path("proposals/<int:proposal_id>/pdf/", views.proposal_pdf, name="proposal_pdf"),
    path("p/<str:token>/", views.public, name="public"),
    path("p/<str:token>/pdf/", views.public_pdf, name="public_pdf"),
]
