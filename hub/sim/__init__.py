"""The channel simulator: a separate process on loopback that behaves like WeChat Pay, Alipay and UnionPay
(order API, payer actions, signed asynchronous callbacks, daily statements in each channel's real format)."""
