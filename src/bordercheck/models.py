"""Every domain's tables, imported in one place so that migrations see the whole schema."""

from bordercheck.audit.models import AuditEntry, AuditHead
from bordercheck.auth.models import (
    ApiClient,
    Bureau,
    RateBudget,
    RecoveryCode,
    RevokedToken,
    User,
)
from bordercheck.db import Base
from bordercheck.directory.models import DirectoryEntry
from bordercheck.edge.models import EdgeKit, EdgeUpload
from bordercheck.hits.models import Delivery, Hit, Notification, Webhook
from bordercheck.installation import InstallationRow
from bordercheck.manifests.models import ManifestTraveller, StoredManifest
from bordercheck.messaging.models import Attachment, Message, Participant, Receipt, Thread
from bordercheck.operations.models import Operation, OperationMember
from bordercheck.registry.models import Change, FeedCounter, Record, RecordImport, RecordVersion
from bordercheck.screening.models import RecordWatch, ScreeningMatch, ScreeningQuery
from bordercheck.training.models import Exercise, ExerciseTrainee, StepResult, StoredScenario
from bordercheck.web.models import ConsoleSession

__all__ = [
    "ApiClient",
    "Attachment",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Bureau",
    "Change",
    "ConsoleSession",
    "Delivery",
    "DirectoryEntry",
    "EdgeKit",
    "EdgeUpload",
    "Exercise",
    "ExerciseTrainee",
    "FeedCounter",
    "Hit",
    "InstallationRow",
    "ManifestTraveller",
    "Message",
    "Notification",
    "Operation",
    "OperationMember",
    "Participant",
    "RateBudget",
    "Receipt",
    "Record",
    "RecordImport",
    "RecordVersion",
    "RecordWatch",
    "RecoveryCode",
    "RevokedToken",
    "ScreeningMatch",
    "ScreeningQuery",
    "StepResult",
    "StoredManifest",
    "StoredScenario",
    "Thread",
    "User",
    "Webhook",
]
