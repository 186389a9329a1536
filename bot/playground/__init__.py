"""`promobot playground`: the real promobot in a browser page that behaves like a Slack channel.

The page's clicks and commands become Slack-signed payloads dispatched to the same Bolt app
`promobot serve` runs; promobot's Web API calls land on an in-process imitation of the parts
of Slack it uses (docs/decisions/014-playground.md).
"""
