import pytest
from django.core.exceptions import ImproperlyConfigured

from cellclinic.core.env import env_bool, env_int, env_list, env_str


def test_it_reads_secrets_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret-value\n")
    monkeypatch.setenv("CC_TEST_SECRET_FILE", str(secret))
    monkeypatch.setenv("CC_TEST_SECRET", "ignored when a file is given")
    assert env_str("CC_TEST_SECRET") == "s3cret-value"


def test_it_names_the_variable_when_the_file_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("CC_TEST_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="CC_TEST_SECRET_FILE"):
        env_str("CC_TEST_SECRET")


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("yes", True), ("off", False), ("", False)])
def test_it_reads_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("CC_TEST_BOOL", raw)
    assert env_bool("CC_TEST_BOOL") is expected


def test_it_rejects_a_malformed_boolean_and_number(monkeypatch):
    monkeypatch.setenv("CC_TEST_BOOL", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="CC_TEST_BOOL"):
        env_bool("CC_TEST_BOOL")
    monkeypatch.setenv("CC_TEST_INT", "eight")
    with pytest.raises(ImproperlyConfigured, match="CC_TEST_INT"):
        env_int("CC_TEST_INT", 1)


def test_it_splits_lists(monkeypatch):
    monkeypatch.setenv("CC_TEST_LIST", " a.example, b.example ,")
    assert env_list("CC_TEST_LIST", []) == ["a.example", "b.example"]
    monkeypatch.delenv("CC_TEST_LIST")
    assert env_list("CC_TEST_LIST", ["x"]) == ["x"]
