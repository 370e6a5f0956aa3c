"""factory_boy factories. Valid ID numbers and credit codes are generated with their check chars."""

import datetime as dt
import itertools

import factory
from django.utils import timezone

from accounts.models import (
    BureauMembership,
    Employment,
    Firm,
    FirmMembership,
    Jurisdiction,
    ManagerProfile,
    User,
)
from accounts.services import id_number_hash
from accounts.validators import credit_code_check_char, id_number_check_char
from training.models import Provider, ProviderStaff

_serial = itertools.count(1)


def make_id_number(region: str = "433101", birth: dt.date = dt.date(1985, 6, 15)) -> str:
    seq = next(_serial) % 1000
    # Vary the birth date as well so that more than 1,000 numbers stay distinct.
    birth = birth + dt.timedelta(days=next(_serial) // 1000)
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_number_check_char(first17)


def make_credit_code(region: str = "433101") -> str:
    first17 = f"91{region}MA{next(_serial):07d}"
    return first17 + credit_code_check_char(first17)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.cn")
    password = factory.PostGenerationMethodCall("set_password", "pw-Test-2026")

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
            self.save()


class JurisdictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Jurisdiction
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{440000 + n:06d}")
    name = factory.Sequence(lambda n: f"地区{n}")
    level = Jurisdiction.Level.COUNTY
    parent = None
    path = factory.LazyAttribute(lambda o: (o.parent.path if o.parent else "") + o.code + "/")


class FirmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Firm

    name = factory.Sequence(lambda n: f"测试物业服务有限公司{n}")
    credit_code = factory.LazyFunction(make_credit_code)
    jurisdiction = factory.SubFactory(JurisdictionFactory)


class FirmMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FirmMembership

    user = factory.SubFactory(UserFactory)
    firm = factory.SubFactory(FirmFactory)
    role = FirmMembership.Role.ADMIN


class BureauMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BureauMembership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, is_staff=True)
    jurisdiction = factory.SubFactory(JurisdictionFactory)

    @factory.post_generation
    def group(self, create, extracted, **kwargs):
        if create:
            from accounts.services import bureau_group_ensure

            self.user.groups.add(bureau_group_ensure())


class ManagerProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ManagerProfile

    user = factory.SubFactory(UserFactory)
    real_name = factory.Sequence(lambda n: f"管理员{n}")
    id_number = factory.LazyFunction(make_id_number)
    id_number_hash = factory.LazyAttribute(lambda o: id_number_hash(o.id_number))
    phone = "13907430001"
    education = "bachelor"
    title = "none"
    skill_level = "level3"
    registration_number = factory.Sequence(lambda n: f"PM2026{900000 + n:06d}")
    completed_at = factory.LazyFunction(timezone.now)
    registration_status = "registered"
    registered_at = factory.LazyAttribute(lambda o: o.completed_at)
    jurisdiction = None


class EmploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employment

    manager = factory.SubFactory(ManagerProfileFactory)
    firm = factory.SubFactory(FirmFactory)
    status = Employment.Status.ACTIVE
    start_date = dt.date(2024, 1, 1)
    requested_by = factory.LazyAttribute(lambda o: o.manager.user)


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider

    name = factory.Sequence(lambda n: f"培训机构{n}")
    credit_code = factory.LazyFunction(make_credit_code)
    jurisdiction = factory.SubFactory(JurisdictionFactory)
    status = Provider.Status.APPROVED


class ProviderStaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderStaff

    user = factory.SubFactory(UserFactory)
    provider = factory.SubFactory(ProviderFactory)


def employ(manager: ManagerProfile, firm: Firm) -> Employment:
    """An active employment, with the manager's jurisdiction set as the service would."""
    employment = EmploymentFactory(manager=manager, firm=firm)
    ManagerProfile.objects.filter(pk=manager.pk).update(jurisdiction=firm.jurisdiction)
    manager.jurisdiction = firm.jurisdiction
    return employment


def bulk_managers(
    count: int,
    prefix: str,
    *,
    firm: Firm | None = None,
    jurisdiction: Jurisdiction | None = None,
    batch_size: int | None = None,
) -> list[ManagerProfile]:
    """`count` registered managers made in bulk (tests and benchmarks that need thousands).

    With `firm`, each is currently employed there and in its jurisdiction. `id_number` stays the
    plain number in memory, for writing import files."""
    users = User.objects.bulk_create(
        [User(email=f"{prefix}-{i}@bulk.example.cn", password="!") for i in range(count)],
        batch_size=batch_size,
    )
    if firm is not None:
        jurisdiction = firm.jurisdiction
    now = timezone.now()
    profiles = []
    for i, user in enumerate(users):
        number = make_id_number()
        profiles.append(
            ManagerProfile(
                user=user,
                real_name=f"{prefix}{i}",
                id_number=number,
                id_number_hash=id_number_hash(number),
                phone="13900000000",
                education="bachelor",
                registration_number=f"{prefix}{i:08d}"[:16],
                completed_at=now,
                registration_status="registered",
                registered_at=now,
                jurisdiction=jurisdiction,
            )
        )
    profiles = ManagerProfile.objects.bulk_create(profiles, batch_size=batch_size)
    if firm is not None:
        Employment.objects.bulk_create(
            [
                Employment(
                    manager=p,
                    firm=firm,
                    status=Employment.Status.ACTIVE,
                    start_date=dt.date(2022, 1, 1),
                    requested_by=p.user,
                )
                for p in profiles
            ],
            batch_size=batch_size,
        )
    return profiles


# --- registry ----------------------------------------------------------------------------------


def png_bytes(color: str = "white") -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(out, "PNG")
    return out.getvalue()


def upload(name: str = "证件.png", content: bytes | None = None):
    """An uploaded PNG file as a browser would send it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content or png_bytes(), content_type="image/png")


def add_proofs(filing, *, kinds=None, by=None):
    """Store a small PNG as each proof of the filing (all five by default), bypassing services."""
    from django.core.files.base import ContentFile

    from registry.models import FilingProof

    proofs = []
    for kind in kinds or FilingProof.Kind.values:
        proof = FilingProof(
            filing=filing,
            kind=kind,
            original_name=f"{kind}.png",
            mime="image/png",
            size=100,
            uploaded_by=by or filing.manager.user,
        )
        proof._detected_mime = "image/png"
        proof.file.save(f"{kind}.png", ContentFile(png_bytes()), save=False)
        proof.save()
        proofs.append(proof)
    return proofs


def open_window(jurisdiction, year: int, today: dt.date | None = None):
    """A filing window for `year` that is open today (and a few weeks more)."""
    from registry.models import FilingWindow

    today = today or timezone.localdate()
    window, _ = FilingWindow.objects.update_or_create(
        jurisdiction=jurisdiction,
        year=year,
        defaults={
            "opens_on": today - dt.timedelta(days=10),
            "closes_on": today + dt.timedelta(days=30),
        },
    )
    return window


def study_hours(manager, year: int, hours, *, on: dt.date | None = None):
    """A verified, passed study record of `hours` for the manager in `year` (counts at once)."""
    from decimal import Decimal

    from training.models import StudyRecord

    return StudyRecord.objects.create(
        manager=manager,
        external_title=f"外部课程 {year}",
        completed_on=on or dt.date(year, 6, 1),
        hours=Decimal(str(hours)),
        assessment=StudyRecord.Assessment.PASSED,
        source=StudyRecord.Source.PROVIDER,
        status=StudyRecord.Status.VERIFIED,
    )


def conduct_record(
    manager, *, kind="bad", start=dt.date(2026, 5, 1), until=None, public=True, by=None, save=True
):
    """A conduct record with a PNG as its evidence; saved as is (`save`), or left for a service."""
    from django.core.files.base import ContentFile

    from registry.models import ConductRecord

    record = ConductRecord(
        manager=manager,
        kind=kind,
        occurred_on=start,
        summary="物业服务投诉查实" if kind == "bad" else "优秀项目经理",
        effective_from=start,
        effective_until=until,
        public=public,
        evidence_name="决定书.png",
        recorded_by=by,
    )
    record._detected_mime = "image/png"
    record.evidence.save("决定书.png", ContentFile(png_bytes()), save=save)
    return record


# --- sampled audits ----------------------------------------------------------------------------


def self_record(
    manager,
    *,
    on: dt.date,
    hours=4,
    status: str = "accepted",
    course=None,
    certificate: bytes | None = None,
    title: str = "自学课程",
):
    """A self-reported, passed study record with a stored PNG certificate (its content hash set
    as the upload would), accepted subject to audit by default."""
    import hashlib
    from decimal import Decimal

    from django.core.files.base import ContentFile

    from training.models import StudyRecord

    content = certificate or _unique_png()
    record = StudyRecord(
        manager=manager,
        course=course,
        external_title="" if course else title,
        completed_on=on,
        hours=Decimal(str(hours)),
        assessment=StudyRecord.Assessment.PASSED,
        source=StudyRecord.Source.SELF,
        status=status,
        certificate_name="证书.png",
        certificate_sha256=hashlib.sha256(content).hexdigest(),
    )
    record._detected_mime = "image/png"
    record.certificate.save("c.png", ContentFile(content), save=False)
    record.save()
    return record


_png_serial = iter(range(1, 1 << 24))


def _unique_png() -> bytes:
    """A small PNG whose bytes no other call returns (a certificate of its own)."""
    n = next(_png_serial)
    return png_bytes((n & 255, (n >> 8) & 255, (n >> 16) & 255))


def audit_item(world, *, on: dt.date | None = None, by=None):
    """An audited record of `world.manager` (county policy in audit mode, a draw of 100 %)."""
    from training import audits

    audits.audit_policy_set(
        actor=world.bureau,
        jurisdiction=world.county,
        mode="audit",
        sample_percent=100,
        max_hours_per_day=8,
        answer_days=14,
    )
    record = self_record(world.manager, on=on or dt.date(2026, 3, 1))
    draw = audits.audit_draw(
        actor=by or world.bureau, jurisdiction=world.county, year=record.completed_on.year
    )
    return draw.items.get(record=record)


def audit_answered(world):
    """An audited record of `world.manager` with his evidence."""
    from training import audits

    item = audit_item(world)
    return audits.audit_answer(
        actor=world.manager.user,
        item=item,
        answer="原件照片",
        evidence=upload("证明.png"),
        today=item.due_on,
    )
