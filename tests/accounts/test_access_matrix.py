"""Every portal URL that takes an object id × every role, with the expected answer.

404: the object is outside the user's reach (its existence is not revealed).
403: the user's role never may use this page (nothing about the object is revealed either).
"login": anonymous visitors are sent to the login page.

Two more roles get nothing anywhere, whatever the URL: the county's bureau official (who gets 200
on the county's data once the second factor is passed) in a session that has not passed it,
without an authenticator ("staff_without_second_factor": sent to set one up) and with one
("staff_password_only": logged out and sent to log in again). Changing requests get 403.
"""

import datetime as dt

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import (
    Employment,
    FirmInvitation,
    FirmMembership,
    StaffInvitation,
    WorkHistory,
)
from tests import factories as f
from tests.auth import client_for, totp_activate

ROLES = [
    "owner_manager",
    "other_manager",
    "reviewer",
    "other_reviewer",
    "bureau",
    "other_bureau",
    "prefecture_bureau",
    "provider",
    "anonymous",
]
#: Staff sessions that have not passed the second factor, and what their page views get.
NO_SECOND_FACTOR = {
    "staff_without_second_factor": "setup",
    "staff_password_only": "login",
}
ALL_ROLES = ROLES + list(NO_SECOND_FACTOR)


def user_for(world, role):
    return {
        "owner_manager": world.manager.user,
        "other_manager": world.other_manager.user,
        "reviewer": world.reviewer,
        "other_reviewer": world.other_reviewer,
        "bureau": world.bureau,
        "other_bureau": world.other_bureau,
        "prefecture_bureau": world.prefecture_bureau,
        "provider": world.provider_user,
        "anonymous": None,
    }[role]


# --- how to build each URL, and what each role gets --------------------------------------------


def _conduct_record(world):
    return f.conduct_record(world.manager, by=world.bureau)


def _work_history(world):
    return WorkHistory.objects.create(
        profile=world.manager, employer="某物业", position="助理", start_date="2015-01-01"
    )


def _active_employment(world):
    return Employment.objects.get(manager=world.manager, status="active")


def _pending_request(world):
    """A newcomer asks firm A to confirm him (the firm's employment review page)."""
    newcomer = f.ManagerProfileFactory(real_name="新人")
    return Employment.objects.create(
        manager=newcomer,
        firm=world.firm,
        status=Employment.Status.REQUESTED,
        requested_by=newcomer.user,
    )


def _second_reviewer(world):
    return f.FirmMembershipFactory(firm=world.firm, role=FirmMembership.Role.REVIEWER)


def _invitation(world):
    return FirmInvitation.objects.create(
        firm=world.firm, email="new@example.cn", token="tok-123", invited_by=world.reviewer
    )


def _staff_invitation_token(world):
    StaffInvitation.objects.create(
        email="new.official@example.cn",
        jurisdiction=world.county,
        invited_by=world.prefecture_bureau,
        token_hash=StaffInvitation.hash_token("staff-tok-123"),
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    return "staff-tok-123"


MATRIX = {
    # Public: anyone, logged in or not (staff still pass their second factor first).
    "disclosure:list": {
        "method": "get",
        "args": lambda w: [w.county.code, 2026],
        "expect": {role: 200 for role in ROLES},
    },
    "overview:employment_review": {
        "method": "get",
        "args": lambda w: [_pending_request(w).pk],
        "expect": {
            "owner_manager": 403,
            "other_manager": 403,
            "reviewer": 200,
            "other_reviewer": 404,
            "bureau": 403,
            "other_bureau": 403,
            "prefecture_bureau": 403,
            "provider": 403,
            "anonymous": "login",
        },
    },
    "overview:manager_detail": {
        "method": "get",
        "args": lambda w: [w.manager.pk],
        "expect": {
            "owner_manager": 200,
            "other_manager": 404,
            "reviewer": 200,
            "other_reviewer": 404,
            "bureau": 200,
            "other_bureau": 404,
            "prefecture_bureau": 200,
            "provider": 403,
            "anonymous": "login",
        },
    },
    "accounts:work_history_edit": {
        "method": "get",
        "args": lambda w: [_work_history(w).pk],
        "expect": {
            "owner_manager": 200,
            "other_manager": 404,
            "reviewer": 403,
            "other_reviewer": 403,
            "bureau": 403,
            "other_bureau": 403,
            "prefecture_bureau": 403,
            "provider": 403,
            "anonymous": "login",
        },
    },
    "accounts:work_history_delete": {
        "method": "post",
        "args": lambda w: [_work_history(w).pk],
        "expect": {
            "owner_manager": 302,
            "other_manager": 404,
            "reviewer": 403,
            "other_reviewer": 403,
            "bureau": 403,
            "other_bureau": 403,
            "prefecture_bureau": 403,
            "provider": 403,
            "anonymous": "login",
        },
    },
    "accounts:employment_action": {
        "method": "post",
        "args": lambda w: [_active_employment(w).pk, "end"],
        "data": {"end_date": "2025-06-30"},
        "expect": {
            "owner_manager": 302,
            "other_manager": 404,
            "reviewer": 302,
            "other_reviewer": 404,
            "bureau": 403,
            "other_bureau": 403,
            "prefecture_bureau": 403,
            "provider": 403,
            "anonymous": "login",
        },
    },
    "accounts:firm_reviewer_remove": {
        "method": "post",
        "args": lambda w: [_second_reviewer(w).pk],
        "expect": {
            "owner_manager": 403,
            "other_manager": 403,
            "reviewer": 302,
            "other_reviewer": 404,
            "bureau": 403,
            "other_bureau": 403,
            "prefecture_bureau": 403,
            "provider": 403,
            "anonymous": "login",
        },
    },
    "accounts:firm_invitation_revoke": {
        "method": "post",
        "args": lambda w: [_invitation(w).pk],
        "expect": {
            "owner_manager": 403,
            "other_manager": 403,
            "reviewer": 302,
            "other_reviewer": 404,
            "bureau": 403,
            "other_bureau": 403,
            "prefecture_bureau": 403,
            "provider": 403,
            "anonymous": "login",
        },
    },
    # The token is the capability: anyone logged in may open the page; accepting checks the
    # e-mail address (tested in test_firm_reviewers.py).
    "accounts:invitation_accept": {
        "method": "get",
        "args": lambda w: [_invitation(w).token],
        "expect": {
            "owner_manager": 200,
            "other_manager": 200,
            "reviewer": 200,
            "other_reviewer": 200,
            "bureau": 200,
            "other_bureau": 200,
            "prefecture_bureau": 200,
            "provider": 200,
            "anonymous": "login",
        },
    },
    # The token is the capability, for a person who has no account yet: the page (the password
    # form) opens for anyone (tested in test_staff_invitation.py).
    "accounts:staff_invitation_accept": {
        "method": "get",
        "args": lambda w: [_staff_invitation_token(w)],
        "expect": dict.fromkeys(ROLES, 200),
    },
}


# --- training ------------------------------------------------------------------------------------


def _pending_record(world):
    from django.core.files.base import ContentFile

    from training.models import StudyRecord

    record = StudyRecord(
        manager=world.manager,
        external_title="外部课程",
        completed_on="2026-03-01",
        hours=8,
        assessment="passed",
        source="self",
        status="pending",
        certificate_name="证书.png",
    )
    record._detected_mime = "image/png"
    record.certificate.save("c.png", ContentFile(_png()), save=False)
    record.save()
    return record


def _png():
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, "PNG")
    return out.getvalue()


def _rejected_report(world):
    from training.models import ProviderReport

    return ProviderReport.objects.create(
        provider=world.provider_user.provider_staff.provider,
        uploaded_by=world.provider_user,
        original_name="x.csv",
        sha256="0" * 64,
        status="rejected",
        error_report="行号\n",
    )


MANAGER_ONLY_GET = {
    "owner_manager": 200,
    "other_manager": 404,
    "reviewer": 403,
    "other_reviewer": 403,
    "bureau": 403,
    "other_bureau": 403,
    "prefecture_bureau": 403,
    "provider": 403,
    "anonymous": "login",
}

MATRIX.update(
    {
        "training:study_record_edit": {
            "method": "get",
            "args": lambda w: [_pending_record(w).pk],
            "expect": MANAGER_ONLY_GET,
        },
        "training:study_record_delete": {
            "method": "post",
            "args": lambda w: [_pending_record(w).pk],
            "expect": {**MANAGER_ONLY_GET, "owner_manager": 302},
        },
        "training:certificate": {
            "method": "get",
            "args": lambda w: [_pending_record(w).pk],
            "expect": {
                "owner_manager": 200,
                "other_manager": 404,
                "reviewer": 200,
                "other_reviewer": 404,
                "bureau": 200,
                "other_bureau": 404,
                "prefecture_bureau": 200,
                "provider": 403,
                "anonymous": "login",
            },
        },
        # The year is not an object: each manager gets his own transcript.
        "training:transcript": {
            "method": "get",
            "args": lambda w: [2026],
            "expect": {**MANAGER_ONLY_GET, "other_manager": 200},
        },
        "training:report_errors": {
            "method": "get",
            "args": lambda w: [_rejected_report(w).pk],
            "expect": {
                "owner_manager": 403,
                "other_manager": 403,
                "reviewer": 403,
                "other_reviewer": 403,
                "bureau": 404,
                "other_bureau": 404,
                "prefecture_bureau": 200,
                "provider": 200,
                "anonymous": "login",
            },
        },
    }
)

# --- sampled audits (training) ---------------------------------------------------------------

BUREAU_ONLY = {
    "owner_manager": 403,
    "other_manager": 403,
    "reviewer": 403,
    "other_reviewer": 403,
    "bureau": 200,
    "other_bureau": 404,
    "prefecture_bureau": 200,
    "provider": 403,
    "anonymous": "login",
}

MATRIX.update(
    {
        "training:audit_answer": {
            "method": "get",
            "args": lambda w: [f.audit_item(w).pk],
            "expect": MANAGER_ONLY_GET,
        },
        "training:audit_evidence": {
            "method": "get",
            "args": lambda w: [f.audit_answered(w).pk],
            "expect": {
                **BUREAU_ONLY,
                "owner_manager": 200,
                "other_manager": 404,
            },
        },
        "training:audit_item_detail": {
            "method": "get",
            "args": lambda w: [f.audit_item(w).pk],
            "expect": BUREAU_ONLY,
        },
        "training:audit_item_decide": {
            "method": "post",
            "args": lambda w: [f.audit_answered(w).pk],
            "data": {"decision": "upheld", "note": ""},
            "expect": {**BUREAU_ONLY, "bureau": 302, "prefecture_bureau": 302},
        },
    }
)

# --- registry (the annual filing) ----------------------------------------------------------------


def _filing(world, state="draft"):
    """The manager's filing of this year with all five proofs, taken along the workflow up to
    `state` ("draft", "awaiting_firm", "awaiting_bureau" or "approved")."""
    from django.utils import timezone

    from registry import services

    year = timezone.localdate().year
    f.open_window(world.province, year)
    filing = services.filing_start(actor=world.manager.user, year=year)
    f.add_proofs(filing)
    steps = [
        ("awaiting_firm", lambda x: services.filing_submit(actor=world.manager.user, filing=x)),
        ("awaiting_bureau", lambda x: services.filing_firm_approve(actor=world.reviewer, filing=x)),
        ("approved", lambda x: services.filing_bureau_approve(actor=world.bureau, filing=x)),
    ]
    for reached, step in steps:
        if filing.status == state:
            break
        filing = step(filing)
        assert filing.status == reached
    assert filing.status == state
    return filing


def _proof(world):
    """A proof of a submitted filing (which the firm now reviews)."""
    return _filing(world, "awaiting_firm").proofs.first()


MANAGER_ONLY_POST = {**MANAGER_ONLY_GET, "owner_manager": 302}

FIRM_ONLY = {
    "owner_manager": 403,
    "other_manager": 403,
    "reviewer": 200,
    "other_reviewer": 404,
    "bureau": 403,
    "other_bureau": 403,
    "prefecture_bureau": 403,
    "provider": 403,
    "anonymous": "login",
}

MATRIX.update(
    {
        "registry:proof_upload": {
            "method": "post",
            "args": lambda w: [_filing(w, "draft").pk],
            # A fresh file for each request (a file object is read only once).
            "data": lambda w: {"kind": "id_card", "file": f.upload()},
            "expect": MANAGER_ONLY_POST,
        },
        "registry:proof_reuse": {
            "method": "post",
            "args": lambda w: [_filing(w, "draft").pk],
            "data": lambda w: {"kind": "id_card"},
            "expect": MANAGER_ONLY_POST,
        },
        "registry:proof_transcript": {
            "method": "post",
            "args": lambda w: [_filing(w, "draft").pk],
            "expect": MANAGER_ONLY_POST,
        },
        "registry:filing_submit": {
            "method": "post",
            "args": lambda w: [_filing(w, "draft").pk],
            "expect": MANAGER_ONLY_POST,
        },
        "registry:filing_withdraw": {
            "method": "post",
            "args": lambda w: [_filing(w, "awaiting_firm").pk],
            "expect": MANAGER_ONLY_POST,
        },
        # The manager's own certificate; the bureau and the firm see the filing elsewhere.
        "registry:filing_certificate": {
            "method": "get",
            "args": lambda w: [_filing(w, "approved").pk],
            "expect": MANAGER_ONLY_GET,
        },
        "registry:proof_file": {
            "method": "get",
            "args": lambda w: [_proof(w).pk],
            "expect": {
                "owner_manager": 200,
                "other_manager": 404,
                "reviewer": 200,
                "other_reviewer": 404,
                "bureau": 200,
                "other_bureau": 404,
                "prefecture_bureau": 200,
                "provider": 403,
                "anonymous": "login",
            },
        },
        "registry:firm_filing_detail": {
            "method": "get",
            "args": lambda w: [_filing(w, "awaiting_firm").pk],
            "expect": FIRM_ONLY,
        },
        "registry:firm_filing_approve": {
            "method": "post",
            "args": lambda w: [_filing(w, "awaiting_firm").pk],
            "expect": {**FIRM_ONLY, "reviewer": 302},
        },
        "registry:firm_filing_return": {
            "method": "post",
            "args": lambda w: [_filing(w, "awaiting_firm").pk],
            "data": {"reason": "劳动合同照片不清晰"},
            "expect": {**FIRM_ONLY, "reviewer": 302},
        },
        # The evidence of a conduct record: the manager and the bureau, never a firm.
        "registry:conduct_evidence": {
            "method": "get",
            "args": lambda w: [_conduct_record(w).pk],
            "expect": {
                "owner_manager": 200,
                "other_manager": 404,
                "reviewer": 403,
                "other_reviewer": 403,
                "bureau": 200,
                "other_bureau": 404,
                "prefecture_bureau": 200,
                "provider": 403,
                "anonymous": "login",
            },
        },
        # Public: the code on the certificate is the capability; the page shows nothing private
        # (tested in tests/registry/test_permissions.py).
        "registry:verify": {
            "method": "get",
            "args": lambda w: [_filing(w, "approved").certificate_code],
            "expect": dict.fromkeys(ROLES, 200),
        },
    }
)

# --- the credit file (credit app) --------------------------------------------------------------


def _old_bad_record(world):
    """A bad record of the manager old enough to be repaired (90 days by default)."""
    record = f.conduct_record(world.manager, by=world.bureau, save=False)
    record.effective_from = record.occurred_on = timezone.localdate() - dt.timedelta(days=200)
    record.save()
    return record


def _objection(world):
    from credit.services import objection_submit

    return objection_submit(
        actor=world.manager.user,
        target="bad_record",
        pk=_old_bad_record(world).pk,
        reason="并非本人",
        evidence=f.upload(),
    )


def _repair(world):
    from credit.services import repair_submit

    return repair_submit(
        actor=world.manager.user,
        record=_old_bad_record(world),
        statement="已整改",
        proof=f.upload(),
    )


def _supervision_entry(world):
    from credit.services import supervision_list

    return supervision_list(actor=world.bureau, manager=world.manager, reason="多次投诉")


#: The manager himself and the bureau of his jurisdiction (and above); never a firm.
MANAGER_AND_BUREAU_GET = {
    "owner_manager": 200,
    "other_manager": 404,
    "reviewer": 403,
    "other_reviewer": 403,
    "bureau": 200,
    "other_bureau": 404,
    "prefecture_bureau": 200,
    "provider": 403,
    "anonymous": "login",
}
BUREAU_ONLY_POST = {
    "owner_manager": 403,
    "other_manager": 403,
    "reviewer": 403,
    "other_reviewer": 403,
    "bureau": 302,
    "other_bureau": 404,
    "prefecture_bureau": 302,
    "provider": 403,
    "anonymous": "login",
}

MATRIX.update(
    {
        "credit:repair_submit": {
            "method": "post",
            "args": lambda w: [_old_bad_record(w).pk],
            "data": lambda w: {"statement": "已整改", "proof": f.upload()},
            "expect": MANAGER_ONLY_POST,
        },
        "credit:objection_evidence": {
            "method": "get",
            "args": lambda w: [_objection(w).pk],
            "expect": MANAGER_AND_BUREAU_GET,
        },
        "credit:repair_proof": {
            "method": "get",
            "args": lambda w: [_repair(w).pk],
            "expect": MANAGER_AND_BUREAU_GET,
        },
        "credit:objection_decide": {
            "method": "post",
            "args": lambda w: [_objection(w).pk],
            "data": {"decision": "reject", "reason": "证据不足"},
            "expect": BUREAU_ONLY_POST,
        },
        "credit:repair_decide": {
            "method": "post",
            "args": lambda w: [_repair(w).pk],
            "data": {"decision": "uphold", "reason": "整改到位"},
            "expect": BUREAU_ONLY_POST,
        },
        "credit:supervision_delist": {
            "method": "post",
            "args": lambda w: [_supervision_entry(w).pk],
            "data": {"reason": "已整改"},
            "expect": BUREAU_ONLY_POST,
        },
    }
)

CASES = [(name, role) for name in MATRIX for role in ALL_ROLES]


def _client(world, role):
    if role == "staff_without_second_factor":
        return client_for(world.bureau, second_factor=False)
    if role == "staff_password_only":
        return client_for(totp_activate(world.bureau), second_factor=False)
    return client_for(user_for(world, role))


@pytest.mark.parametrize(("url_name", "role"), CASES, ids=[f"{n}-{r}" for n, r in CASES])
def test_url_role_matrix(world, url_name, role):
    spec = MATRIX[url_name]
    url = reverse(url_name, args=spec["args"](world))
    client = _client(world, role)
    data = spec.get("data", {})
    response = getattr(client, spec["method"])(url, data(world) if callable(data) else data)
    if role in NO_SECOND_FACTOR:
        expected = NO_SECOND_FACTOR[role] if spec["method"] == "get" else 403
    else:
        expected = spec["expect"][role]
    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    elif expected == "setup":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("mfa_activate_totp"))
    else:
        assert response.status_code == expected, response.content[:500]
    if role == "staff_password_only":
        # Logged out: the next page is the public one, not the bureau's.
        assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("url_name", [n for n in MATRIX if MATRIX[n]["method"] == "post"])
def test_changing_urls_refuse_get(world, as_user, url_name):
    spec = MATRIX[url_name]
    url = reverse(url_name, args=spec["args"](world))
    owner = {
        "accounts:firm_reviewer_remove": world.reviewer,
        "accounts:firm_invitation_revoke": world.reviewer,
        "registry:firm_filing_approve": world.reviewer,
        "registry:firm_filing_return": world.reviewer,
        "credit:objection_decide": world.bureau,
        "credit:repair_decide": world.bureau,
        "credit:supervision_delist": world.bureau,
        "training:audit_item_decide": world.bureau,
    }.get(url_name, world.manager.user)
    assert as_user(owner).get(url).status_code == 405


APPS = ("accounts", "training", "registry", "credit", "overview", "disclosure", "portal")


def _object_url_names():
    """Names of our apps' URL patterns that take a parameter (an id or a token)."""
    found = set()

    def walk(patterns, namespace):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                if ns in (None, *APPS):
                    walk(p.url_patterns, ns)
            elif isinstance(p, URLPattern) and p.pattern.regex.groups and p.name:
                if namespace in APPS or (
                    namespace is None and p.callback.__module__.startswith("portal.")
                ):
                    found.add(f"{namespace}:{p.name}" if namespace else p.name)

    walk(get_resolver().url_patterns, None)
    return found


def test_every_url_with_an_object_id_is_in_the_matrix():
    missing = _object_url_names() - set(MATRIX)
    assert not missing, f"Add these URLs to MATRIX in {__file__}: {sorted(missing)}"
