"""The reader's comparison: what a reader of the page would call the same output."""

from __future__ import annotations

from generator.compare.reader import ReaderComparison


def test_padding_and_blank_lines_around_the_output_are_not_drift() -> None:
    reader = ReaderComparison()
    page = "NETWORK ID     NAME      DRIVER\n17e324f45964   bridge    bridge\n"
    run = "\nNETWORK ID   NAME   DRIVER\n9f8e7d6c5b4a   bridge   bridge   \n\n"
    assert reader.compare(page, run).holds


def test_ids_bind_one_placeholder_per_side_for_the_whole_tutorial() -> None:
    reader = ReaderComparison()
    page_id, run_id = "3f2a1b9c0d4e" * 5 + "abcd", "9a8b7c6d5e4f" * 5 + "0123"
    assert reader.compare(page_id + "\n", run_id + "\n").holds
    # The short id later names the same container on each side...
    assert reader.compare(f"{page_id[:12]}  web\n", f"{run_id[:12]}  web\n").holds
    # ...and another container's id where the page shows the first one is drift.
    other = "0f1e2d3c4b5a" * 5 + "6789"
    assert reader.compare(page_id + "\n", other + "\n").holds is False


def test_an_address_is_compared_as_written() -> None:
    reading = ReaderComparison().compare("eth0 172.17.0.2/16\n", "eth0 172.17.0.3/16\n")
    assert not reading.holds
    assert "-eth0 172.17.0.2/16" in reading.diff and "+eth0 172.17.0.3/16" in reading.diff


def test_an_ellipsis_line_stands_for_any_lines() -> None:
    reader = ReaderComparison()
    page = "PING web (172.18.0.2): 56 data bytes\n...\n1 packets transmitted, 1 received\n"
    run = (
        "PING web (172.18.0.2): 56 data bytes\n64 bytes from 172.18.0.2: seq=0 ttl=64 time=0.1 ms\n"
        "\n--- web ping statistics ---\n1 packets transmitted, 1 received\n"
    )
    assert reader.compare(page, run).holds
    assert not reader.compare(page, run.replace("1 received", "0 received")).holds


def test_json_is_data_and_keys_only_the_run_prints_are_new_not_drift() -> None:
    reader = ReaderComparison()
    page = '[{"Name": "my-net", "Driver": "bridge"}]'
    run = '[\n  {\n    "Name": "my-net",\n    "Driver": "bridge",\n    "EnableIPv6": false\n  }\n]'
    reading = reader.compare(page, run)
    assert reading.holds and reading.new_keys
    changed = reader.compare(page, run.replace('"bridge"', '"macvlan"'))
    assert not changed.holds and changed.diff


def test_the_local_image_reads_as_the_pages_image() -> None:
    reader = ReaderComparison({"alpine": "busybox"})
    assert reader.compare("rcp-a1  alpine  Up\n", "rcp-a1  busybox  Up\n").holds
    assert not reader.compare("rcp-a1  alpine  Up\n", "rcp-a1  busybox-x  Up\n").holds


def test_kept_keeps_the_pages_lines_where_only_volatile_values_differ() -> None:
    reader = ReaderComparison()
    page = "web  Up 3 seconds\neth0 10.9.9.9/24\n"
    run = "web  Up 1 second\neth0 172.17.0.2/16\n"
    assert reader.kept(page, run) == "web  Up 3 seconds\neth0 172.17.0.2/16\n"
    assert reader.kept(page, page) == page


def test_kept_keeps_the_authors_elision_and_drops_the_runs_padding() -> None:
    reader = ReaderComparison()
    assert reader.kept("0\n...\n5\n", "1\n2\n3\n4\n5\n") == "1\n...\n5\n"
    kept = reader.kept("A\n...\nold\n", "A\nB\nC\nnew\n")
    assert kept == "A\n...\nnew\n" and reader.compare(kept, "A\nB\nC\nnew\n").holds
    assert reader.kept("lo  DOWN\n", "lo  UP   \n") == "lo  UP\n"
    assert reader.kept("192.0.2.1 dev eth0\n", "") == ""  # the run printed nothing


def test_the_page_and_the_run_meet_their_ids_in_different_orders() -> None:
    reader = ReaderComparison()
    page_a, page_b = "aa" * 32, "bb" * 32
    run_a, run_b = "0c" * 32, "d1" * 32
    # The run printed both ids (docker run -d twice); the page shows them as `...`.
    assert reader.compare("...\n", f"{run_a}\n{run_b}\n").holds
    # The page first names b, the run's second id: they pair, whatever the numbers.
    assert reader.compare(f"{page_b}\n", f"{run_b}\n").holds
    assert reader.compare(
        f"{page_a[:12]} a\n{page_b[:12]} b\n", f"{run_a[:12]} a\n{run_b[:12]} b\n"
    ).holds
    # Once paired, one to one: b's page id is not a's run id.
    assert not reader.compare(f"{page_b}\n", f"{run_a}\n").holds


def test_json_keyed_by_ids_pairs_each_key_by_its_value() -> None:
    """A network's containers, keyed by id: Docker orders them by the random ids."""
    reader = ReaderComparison()
    one, two = "1f" * 32, "2e" * 32
    page = (
        f'{{"{one}": {{"Name": "rcp-a", "IPv4Address": "172.18.0.2/16"}},'
        f' "{two}": {{"Name": "rcp-b", "IPv4Address": "172.18.0.3/16"}}}}'
    )
    first, second = "9a" * 32, "0b" * 32
    run = (
        f'{{"{second}": {{"Name": "rcp-b", "IPv4Address": "172.18.0.3/16"}},'
        f' "{first}": {{"Name": "rcp-a", "IPv4Address": "172.18.0.2/16"}}}}'
    )
    assert reader.compare(page, run).holds
    swapped = run.replace("172.18.0.3", "172.18.0.9")
    reading = ReaderComparison().compare(page, swapped)
    assert not reading.holds and any("172.18.0.9" in line for line in reading.diff)
