"""The TAK devices connected to the center's endpoint, as the API lists them."""
