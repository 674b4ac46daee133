"""The catalogue of licensing matters (事项清单) and the 免提交 look-up of materials already held."""
