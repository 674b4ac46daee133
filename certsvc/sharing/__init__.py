"""Sharing: grants (授权下载) and the marked copies (加注件) a grantee downloads."""
