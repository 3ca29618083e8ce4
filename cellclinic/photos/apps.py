from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "cellclinic.photos"
    label = "photos"
    verbose_name = "Clinical photographs"

    def ready(self) -> None:
        from cellclinic.audit.selectors import (
            register_action_labels,
            register_field_labels,
            register_object_type,
        )

        register_object_type("photo", "Photo")
        register_action_labels({"photo.upload": "Photograph added"})
        register_field_labels(
            "photo",
            {
                "consultation": "Consultation (id)",
                "view": "View",
                "area": "Area",
                "width": "Width (pixels)",
                "height": "Height (pixels)",
                "sha256": "Hash of the file (SHA-256)",
            },
        )
