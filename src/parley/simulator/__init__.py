"""A carrier that speaks Twilio's Messages API, for the demo and the tests."""
