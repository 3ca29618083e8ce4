"""The lab's state machines: specimens, shipments, batches, QC results and products.

Each table lists the string values a model's status takes, the first being where a new record starts.
Events that do not change what may happen next (a deviation during processing, a temperature reading
in transit, a disposal recorded against a rejected product) are recorded beside the status, not as one.

A product reaches the patient only through release: it is made awaiting release, released by QA, shipped,
received at the clinic and then administered; a rejected product stays rejected for good.
A QC result is never edited once it has a value: a correction moves it to "corrected" (the service asks
for the reason) and a new result takes its place, so the earlier value stays on record.
"""

from cellclinic.core.states import TransitionTable

# Specimens: the cells harvested at the clinic, from packing to their use or disposal at the lab.
SPECIMEN_COLLECTED = "collected"
SPECIMEN_PACKED = "packed"
SPECIMEN_SHIPPED = "shipped"
SPECIMEN_RECEIVED = "received"
SPECIMEN_REJECTED = "rejected"
SPECIMEN_LOST = "lost"
SPECIMEN_IN_PROCESSING = "in_processing"
SPECIMEN_USED = "used"
SPECIMEN_QUARANTINED = "quarantined"
SPECIMEN_DISPOSED = "disposed"

SPECIMEN_STATES = TransitionTable(
    name="specimen",
    moves={
        SPECIMEN_COLLECTED: frozenset({SPECIMEN_PACKED, SPECIMEN_DISPOSED}),
        SPECIMEN_PACKED: frozenset({SPECIMEN_SHIPPED, SPECIMEN_DISPOSED}),
        SPECIMEN_SHIPPED: frozenset({SPECIMEN_RECEIVED, SPECIMEN_REJECTED, SPECIMEN_LOST}),
        SPECIMEN_RECEIVED: frozenset({SPECIMEN_IN_PROCESSING, SPECIMEN_QUARANTINED, SPECIMEN_DISPOSED}),
        SPECIMEN_REJECTED: frozenset({SPECIMEN_DISPOSED}),
        SPECIMEN_LOST: frozenset(),
        SPECIMEN_IN_PROCESSING: frozenset({SPECIMEN_USED, SPECIMEN_QUARANTINED, SPECIMEN_DISPOSED}),
        SPECIMEN_USED: frozenset(),
        SPECIMEN_QUARANTINED: frozenset({SPECIMEN_RECEIVED, SPECIMEN_DISPOSED}),
        SPECIMEN_DISPOSED: frozenset(),
    },
    labels={
        SPECIMEN_COLLECTED: "collected at the clinic",
        SPECIMEN_PACKED: "packed for shipping",
        SPECIMEN_SHIPPED: "on its way to the lab",
        SPECIMEN_RECEIVED: "received and accepted at the lab",
        SPECIMEN_REJECTED: "rejected on arrival at the lab",
        SPECIMEN_LOST: "lost in transit",
        SPECIMEN_IN_PROCESSING: "being processed",
        SPECIMEN_USED: "used up in processing",
        SPECIMEN_QUARANTINED: "held in quarantine",
        SPECIMEN_DISPOSED: "disposed of",
    },
)

# Shipments: one box between the clinic and the lab, either way.
SHIPMENT_PACKED = "packed"
SHIPMENT_IN_TRANSIT = "in_transit"
SHIPMENT_DELIVERED = "delivered"
SHIPMENT_LOST = "lost"
SHIPMENT_CANCELLED = "cancelled"

SHIPMENT_STATES = TransitionTable(
    name="shipment",
    moves={
        SHIPMENT_PACKED: frozenset({SHIPMENT_IN_TRANSIT, SHIPMENT_CANCELLED}),
        SHIPMENT_IN_TRANSIT: frozenset({SHIPMENT_DELIVERED, SHIPMENT_LOST}),
        SHIPMENT_DELIVERED: frozenset(),
        SHIPMENT_LOST: frozenset(),
        SHIPMENT_CANCELLED: frozenset(),
    },
    labels={
        SHIPMENT_PACKED: "packed and waiting for the courier",
        SHIPMENT_IN_TRANSIT: "in transit",
        SHIPMENT_DELIVERED: "delivered",
        SHIPMENT_LOST: "lost",
        SHIPMENT_CANCELLED: "cancelled before it left",
    },
)

# Batches: one run of processing for a specimen or donor lot under one protocol version.
BATCH_PLANNED = "planned"
BATCH_IN_PROCESS = "in_process"
BATCH_QC_PENDING = "qc_pending"
BATCH_AWAITING_RELEASE = "awaiting_release"
BATCH_RELEASED = "released"
BATCH_REJECTED = "rejected"
BATCH_FAILED = "failed"
BATCH_CANCELLED = "cancelled"

BATCH_STATES = TransitionTable(
    name="batch",
    moves={
        BATCH_PLANNED: frozenset({BATCH_IN_PROCESS, BATCH_CANCELLED}),
        BATCH_IN_PROCESS: frozenset({BATCH_QC_PENDING, BATCH_FAILED}),
        BATCH_QC_PENDING: frozenset({BATCH_AWAITING_RELEASE}),
        BATCH_AWAITING_RELEASE: frozenset({BATCH_RELEASED, BATCH_REJECTED}),
        BATCH_RELEASED: frozenset(),
        BATCH_REJECTED: frozenset(),
        BATCH_FAILED: frozenset(),
        BATCH_CANCELLED: frozenset(),
    },
    labels={
        BATCH_PLANNED: "planned",
        BATCH_IN_PROCESS: "in process",
        BATCH_QC_PENDING: "waiting for QC results",
        BATCH_AWAITING_RELEASE: "waiting for release by QA",
        BATCH_RELEASED: "released",
        BATCH_REJECTED: "rejected by QA",
        BATCH_FAILED: "a failed culture",
        BATCH_CANCELLED: "cancelled before processing",
    },
)

# QC results: one test of one batch against one release criterion.
QC_PENDING = "pending"
QC_PASSED = "passed"
QC_FAILED = "failed"
QC_CORRECTED = "corrected"

QC_RESULT_STATES = TransitionTable(
    name="QC result",
    moves={
        QC_PENDING: frozenset({QC_PASSED, QC_FAILED}),
        QC_PASSED: frozenset({QC_CORRECTED}),
        QC_FAILED: frozenset({QC_CORRECTED}),
        QC_CORRECTED: frozenset(),
    },
    labels={
        QC_PENDING: "waiting for its result",
        QC_PASSED: "within its limit",
        QC_FAILED: "outside its limit",
        QC_CORRECTED: "corrected by a later result",
    },
)

# Products: one dose made by a batch, from release to the patient.
PRODUCT_AWAITING_RELEASE = "awaiting_release"
PRODUCT_RELEASED = "released"
PRODUCT_SHIPPED = "shipped"
PRODUCT_RECEIVED = "received"
PRODUCT_ADMINISTERED = "administered"
PRODUCT_QUARANTINED = "quarantined"
PRODUCT_REJECTED = "rejected"
PRODUCT_EXPIRED = "expired"
PRODUCT_RECALLED = "recalled"
PRODUCT_DISPOSED = "disposed"

PRODUCT_STATES = TransitionTable(
    name="product",
    moves={
        PRODUCT_AWAITING_RELEASE: frozenset({PRODUCT_RELEASED, PRODUCT_REJECTED, PRODUCT_QUARANTINED}),
        PRODUCT_RELEASED: frozenset(
            {PRODUCT_SHIPPED, PRODUCT_QUARANTINED, PRODUCT_EXPIRED, PRODUCT_RECALLED, PRODUCT_DISPOSED}
        ),
        PRODUCT_SHIPPED: frozenset(
            {PRODUCT_RECEIVED, PRODUCT_QUARANTINED, PRODUCT_EXPIRED, PRODUCT_RECALLED}
        ),
        PRODUCT_RECEIVED: frozenset(
            {PRODUCT_ADMINISTERED, PRODUCT_QUARANTINED, PRODUCT_EXPIRED, PRODUCT_RECALLED, PRODUCT_DISPOSED}
        ),
        PRODUCT_ADMINISTERED: frozenset(),
        PRODUCT_QUARANTINED: frozenset({PRODUCT_RELEASED, PRODUCT_REJECTED, PRODUCT_DISPOSED}),
        PRODUCT_REJECTED: frozenset(),
        PRODUCT_EXPIRED: frozenset({PRODUCT_DISPOSED}),
        PRODUCT_RECALLED: frozenset({PRODUCT_DISPOSED}),
        PRODUCT_DISPOSED: frozenset(),
    },
    labels={
        PRODUCT_AWAITING_RELEASE: "made and waiting for release",
        PRODUCT_RELEASED: "released",
        PRODUCT_SHIPPED: "on its way to the clinic",
        PRODUCT_RECEIVED: "received at the clinic",
        PRODUCT_ADMINISTERED: "administered",
        PRODUCT_QUARANTINED: "held in quarantine",
        PRODUCT_REJECTED: "rejected",
        PRODUCT_EXPIRED: "expired",
        PRODUCT_RECALLED: "recalled",
        PRODUCT_DISPOSED: "disposed of",
    },
)
