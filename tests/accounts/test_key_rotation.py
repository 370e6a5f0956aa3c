import io

from django.core.management import call_command
from django.db import connection

from accounts.models import ManagerProfile
from accounts.services import id_number_hash


def raw_ciphertext(pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM accounts_managerprofile WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _fresh_field_keys():
    # The field caches its derived keys; a rotation is a restart in real life.
    field = ManagerProfile._meta.get_field("id_number")
    for attr in ("keys", "f"):
        field.__dict__.pop(attr, None)


def test_rotating_the_encryption_salt_keeps_numbers_readable(world, settings):
    manager = world.manager
    old_cipher = raw_ciphertext(manager.pk)
    settings.SALT_KEY = ["a-brand-new-salt", *settings.SALT_KEY]
    _fresh_field_keys()
    try:
        # Old rows still decrypt with the old salt second in the list.
        assert ManagerProfile.objects.get(pk=manager.pk).id_number == manager.id_number
        call_command("reencrypt_personal_data", stdout=io.StringIO())
        assert raw_ciphertext(manager.pk) != old_cipher
        # Without the old salt the re-encrypted rows still read correctly.
        settings.SALT_KEY = ["a-brand-new-salt"]
        _fresh_field_keys()
        assert ManagerProfile.objects.get(pk=manager.pk).id_number == manager.id_number
    finally:
        _fresh_field_keys()


def test_rotating_the_hash_key_recomputes_the_blind_index(world, settings):
    settings.ID_HASH_KEY = "a-new-hash-key"
    call_command("reencrypt_personal_data", stdout=io.StringIO())
    manager = ManagerProfile.objects.get(pk=world.manager.pk)
    assert manager.id_number_hash == id_number_hash(world.manager.id_number, key="a-new-hash-key")
