"""Task heads: small layers mapping backbone features to task outputs."""
