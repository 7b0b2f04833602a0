#!/bin/sh
# Makes the PDF fixtures of the signing tests with tools other than ours (qpdf, poppler's pdftocairo),
# so that the signer is exercised on files from different producers and cross-reference layouts.
# The generated files are committed; run this again only to change them: tests/data/pdf/make-fixtures.sh
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A two-page document written by hand without a valid xref table; qpdf repairs it.
cat > "$tmp/src.pdf" <<'PDF'
%PDF-1.7
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R 6 0 R] /Count 2 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595.276 841.89] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >> endobj
4 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj
5 0 obj << /Length 88 >>
stream
BT /F1 18 Tf 72 760 Td (Bang diem ca nam - lop 3A) Tj ET
BT /F1 11 Tf 72 730 Td (Trang 1) Tj ET
endstream
endobj
6 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595.276 841.89] /Resources << /Font << /F1 4 0 R >> >> /Contents 7 0 R >> endobj
7 0 obj << /Length 40 >>
stream
BT /F1 11 Tf 72 730 Td (Trang 2) Tj ET
endstream
endobj
trailer << /Root 1 0 R /Size 9 >>
%%EOF
PDF
qpdf "$tmp/src.pdf" qpdf-classic.pdf 2>/dev/null || [ $? -eq 3 ]         # classic xref table
pdftocairo -pdf qpdf-classic.pdf cairo.pdf                                  # cairo producer, embedded font
qpdf --object-streams=generate cairo.pdf qpdf-xrefstream.pdf               # xref stream + object streams
qpdf --linearize qpdf-classic.pdf qpdf-linearized.pdf                       # linearized (two xref sections)

# A form with an empty signature field "GVCN" (widget on page 1) and an indirect /Fields array.
cat > "$tmp/form.pdf" <<'PDF'
%PDF-1.7
1 0 obj << /Type /Catalog /Pages 2 0 R /AcroForm 8 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R /Annots [6 0 R] >> endobj
4 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj
5 0 obj << /Length 52 >>
stream
BT /F1 11 Tf 72 730 Td (Chu ky giao vien chu nhiem) Tj ET
endstream
endobj
6 0 obj << /Type /Annot /Subtype /Widget /FT /Sig /T (GVCN) /F 4 /Rect [72 600 272 660] /P 3 0 R >> endobj
7 0 obj [6 0 R] endobj
8 0 obj << /Fields 7 0 R >> endobj
trailer << /Root 1 0 R /Size 9 >>
%%EOF
PDF
qpdf "$tmp/form.pdf" form-empty-field.pdf 2>/dev/null || [ $? -eq 3 ]
for f in qpdf-classic.pdf cairo.pdf qpdf-xrefstream.pdf qpdf-linearized.pdf form-empty-field.pdf; do
  qpdf --check "$f" >/dev/null
done
echo "fixtures written in $(pwd)"
