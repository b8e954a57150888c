"""Provider webhooks: signed requests from Twilio (or the simulator, which signs alike)."""
