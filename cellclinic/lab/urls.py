from django.urls import path

from cellclinic.lab import actions, views

app_name = "lab"
urlpatterns = [
    path("", views.lab_home, name="index"),
    path("waiting/", views.waiting, name="waiting"),
    path("specimens/<int:specimen_id>/", views.specimen_detail, name="specimen"),
    path("specimens/<int:specimen_id>/label.pdf", views.specimen_label, name="specimen_label"),
    path("batches/<int:batch_id>/", views.batch_detail, name="batch"),
    path("products/<str:din>/", views.product_detail, name="product"),
    path("products/<str:din>/label.pdf", views.product_label, name="product_label"),
    path("donor-lots/", views.donor_lot_list, name="donor_lots"),
    path("donor-lots/<int:lot_id>/", views.donor_lot_detail, name="donor_lot"),
    # Actions: each a page with one form that calls one service (actions.py).
    path("harvest/<int:plan_id>/", actions.harvest, name="harvest"),
    path("specimens/<int:specimen_id>/pack/", actions.specimen_pack, name="specimen_pack"),
    path("specimens/<int:specimen_id>/dispose/", actions.specimen_dispose, name="specimen_dispose"),
    path("specimens/<int:specimen_id>/plan-batch/", actions.batch_plan, name="batch_plan"),
    path("shipments/<int:shipment_id>/dispatch/", actions.shipment_dispatch, name="shipment_dispatch"),
    path("shipments/<int:shipment_id>/receive/", actions.shipment_receive, name="shipment_receive"),
    path("batches/<int:batch_id>/start/", actions.batch_start, name="batch_start"),
    path("batches/<int:batch_id>/step/", actions.batch_step, name="batch_step"),
    path("batches/<int:batch_id>/deviation/", actions.batch_deviation, name="batch_deviation"),
    path("batches/<int:batch_id>/fail/", actions.batch_fail, name="batch_fail"),
    path("batches/<int:batch_id>/finish/", actions.batch_finish, name="batch_finish"),
    path("batches/<int:batch_id>/qc/", actions.batch_qc, name="batch_qc"),
    path("qc-results/<int:result_id>/correct/", actions.qc_correct, name="qc_correct"),
    path("batches/<int:batch_id>/release/", actions.batch_release, name="batch_release"),
    path("batches/<int:batch_id>/reject/", actions.batch_reject, name="batch_reject"),
    path("batches/<int:batch_id>/ship/", actions.batch_ship, name="batch_ship"),
    path("products/<str:din>/quarantine/", actions.product_quarantine, name="product_quarantine"),
    path("products/<str:din>/release/", actions.product_unquarantine, name="product_unquarantine"),
    path("products/<str:din>/recall/", actions.product_recall, name="product_recall"),
    path("products/<str:din>/dispose/", actions.product_dispose, name="product_dispose"),
    path("donor-lots/<int:lot_id>/eligibility/", actions.donor_lot_eligibility, name="donor_lot_eligibility"),
    path("bedside/", actions.bedside, name="bedside"),
    path("bedside/checks/<int:check_id>/", actions.bedside_check, name="bedside_check"),
    path("bedside/checks/<int:check_id>/administer/", actions.bedside_administer, name="bedside_administer"),
]
