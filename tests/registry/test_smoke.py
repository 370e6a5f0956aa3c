from django.urls import reverse


def test_pages_render(approved, filing_world, as_user, mfa):
    w = filing_world
    assert (
        as_user(w.manager.user)
        .get(reverse("registry:my_filing") + f"?year={approved.year}")
        .status_code
        == 200
    )
    assert (
        as_user(w.reviewer).get(reverse("registry:firm_queue") + "?status=all").status_code == 200
    )
    assert (
        as_user(w.reviewer)
        .get(reverse("registry:firm_filing_detail", args=[approved.pk]))
        .status_code
        == 200
    )
    r = as_user(w.manager.user).get(reverse("registry:filing_certificate", args=[approved.pk]))
    assert r.status_code == 200 and r.content[:4] == b"%PDF"
    assert (
        as_user(None).get(reverse("registry:verify", args=[approved.certificate_code])).status_code
        == 200
    )
    assert as_user(w.manager.user).get(reverse("notifications:notice_list")).status_code == 200
    staff = mfa(w.bureau)
    r = as_user(staff).get(reverse("admin:registry_annualfiling_change", args=[approved.pk]))
    assert r.status_code == 200, r.content[:300]
    assert as_user(staff).get(reverse("admin:registry_annualfiling_changelist")).status_code == 200
