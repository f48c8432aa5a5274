"""MQTT: each sentence on ``PREFIX/CELL/result``, retained (a subscriber that comes
later gets the last part's), QoS 1 (at least once), JSON (:class:`SentenceMessage`)."""

from __future__ import annotations

import logging

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from castsight.station.settings import MqttSettings
from castsight.station.signals import SentenceMessage

log = logging.getLogger("castsight.station.signals.mqtt")


def result_topic(prefix: str, cell: str) -> str:
    """The topic of a cell's results.

    >>> result_topic("plant/xray", "cell-1")
    'plant/xray/cell-1/result'
    """
    return f"{prefix.rstrip('/')}/{cell}/result"


class MqttPublisher:
    """Publishes on a broker; connects in the background and reconnects by itself.

    Parameters
    ----------
    settings : MqttSettings
        Host, port, topic prefix, QoS, client id, publish timeout.
    client : paho.mqtt.client.Client, optional
        A client made by the caller (tests, TLS); None: a plain one.
    """

    name = "mqtt"

    def __init__(self, settings: MqttSettings, *, client: mqtt.Client | None = None) -> None:
        self.settings = settings
        self.client = client or mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=settings.client_id
        )
        self.client.connect_async(settings.host, settings.port)
        self.client.loop_start()

    def publish(self, message: SentenceMessage) -> None:
        """Publish ``message`` retained on its cell's topic; wait for the broker's
        acknowledgement at most ``timeout_s`` (a broker away is logged, not raised)."""
        topic = result_topic(self.settings.topic_prefix, message.cell)
        info = self.client.publish(topic, message.to_json(), qos=self.settings.qos, retain=True)
        try:
            info.wait_for_publish(self.settings.timeout_s)
        except (RuntimeError, ValueError) as err:
            log.warning("MQTT %s: part %s not published (%s)", topic, message.serial, err)
            return
        if not info.is_published():
            log.warning(
                "MQTT %s: part %s not acknowledged within %.1f s",
                topic,
                message.serial,
                self.settings.timeout_s,
            )

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()


__all__ = ["MqttPublisher", "result_topic"]
