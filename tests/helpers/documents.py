"""Documents: file contents the upload checks accept or refuse."""

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
SECRET = b"%PDF-1.7\n% ACCESS LOG 2023-11-01 kuba@fukuoka login from 10.0.0.7\n"
