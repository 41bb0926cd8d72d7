from django.urls import path

from shop import views

urlpatterns = [
    path("health/live", views.live),
    path("health/ready", views.ready),
    path("api/heartbeats", views.heartbeats),
    path("", views.index),
]
