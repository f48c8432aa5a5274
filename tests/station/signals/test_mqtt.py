"""The MQTT publisher against the machine's real Mosquitto (127.0.0.1:1883, or
``CASTSIGHT_TEST_MQTT=HOST:PORT``): unreachable is a failure, never a skip."""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import uuid
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from castsight.station.settings import MqttSettings
from castsight.station.signals import SentenceMessage
from castsight.station.signals.mqtt import MqttPublisher, result_topic

HOST, _, PORT = os.environ.get("CASTSIGHT_TEST_MQTT", "127.0.0.1:1883").partition(":")
T = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)


def message(serial: str, sentence: str = "NG") -> SentenceMessage:
    return SentenceMessage(part_id=7, serial=serial, cell="cell-1", sentence=sentence,
                           no_test=False, reasons=("pore 3.1 mm > 2.0 mm",), received_at=T,
                           sentenced_at=T, software="0.1.0", plan_sha256="ab" * 32,
                           model_sha256=None)  # fmt: skip


def subscriber(topic: str) -> tuple[mqtt.Client, queue.Queue[mqtt.MQTTMessage]]:
    """A connected client subscribed to ``topic`` (connect raises when the broker is away)."""
    got: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, msg: got.put(msg)
    client.connect(HOST, int(PORT or 1883), keepalive=10)
    subscribed: queue.Queue[Any] = queue.Queue()
    client.on_subscribe = lambda *args: subscribed.put(args)
    client.subscribe(topic, qos=1)
    client.loop_start()
    subscribed.get(timeout=5)
    return client, got


@pytest.fixture
def prefix() -> Iterator[str]:
    """A topic prefix of this test alone; its retained messages are cleared after."""
    prefix = f"castsight-test/{uuid.uuid4().hex[:8]}"
    yield prefix
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect(HOST, int(PORT or 1883))
    client.loop_start()
    client.publish(result_topic(prefix, "cell-1"), b"", qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def test_sentence_arrives_retained_with_qos1(prefix: str) -> None:
    topic = result_topic(prefix, "cell-1")
    listener, got = subscriber(topic)
    publisher = MqttPublisher(MqttSettings(enabled=True, host=HOST, port=int(PORT or 1883),
                                           topic_prefix=prefix))  # fmt: skip
    try:
        publisher.publish(message("P-1"))
        live = got.get(timeout=10)
        payload = json.loads(live.payload)
        assert (live.topic, live.qos, payload["serial"], payload["sentence"]) == (
            topic, 1, "P-1", "NG")  # fmt: skip
        assert payload["reasons"] == ["pore 3.1 mm > 2.0 mm"]
        assert set(payload) >= {"cell", "timestamps", "software", "plan", "model", "no_test"}
        publisher.publish(message("P-2", "OK"))
        assert json.loads(got.get(timeout=10).payload)["serial"] == "P-2"
    finally:
        publisher.close()
        listener.disconnect()
        listener.loop_stop()
    late, got_late = subscriber(topic)  # a subscriber that comes later: the last result
    try:
        retained = got_late.get(timeout=10)
        assert retained.retain and json.loads(retained.payload)["serial"] == "P-2"
    finally:
        late.disconnect()
        late.loop_stop()
