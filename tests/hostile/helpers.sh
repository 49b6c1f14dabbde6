# Helpers the hostile tables' PREPARE snippets use (sourced by run_table.sh; bash only, no
# Python, so the suite runs on a bare machine).

# repeat TEXT N: TEXT written N times, without a newline.
repeat() {
  local i out=""
  for ((i = 0; i < $2; ++i)); do out+=$1; done
  printf '%s' "$out"
}

# deep N: a JSON value nested N arrays deep, [[...[1]...]].
deep() {
  printf '%s1%s' "$(repeat '[' "$1")" "$(repeat ']' "$1")"
}

# fnv1a64 FILE: the checkpoint manifest's content hash (16 hex digits).
fnv1a64() {
  local h=$((0xcbf29ce484222325)) byte
  for byte in $(od -An -v -tu1 "$1"); do
    h=$(((h ^ byte) * 0x100000001b3))
  done
  printf '%016x' "$h"
}

# le64 N: N as 8 little-endian bytes.
le64() {
  local i
  for ((i = 0; i < 8; ++i)); do printf "\\x$(printf '%02x' $((($1 >> (8 * i)) & 255)))"; done
}

# edit_header FILE SED_SCRIPT: rewrites a safetensors file's JSON header with sed, fixing its
# length field; the tensor data is kept.
edit_header() {
  local file=$1 length
  length=$(od -An -v -tu8 -N8 "$file" | tr -d ' ')
  tail -c +9 "$file" | head -c "$length" | sed "$2" >"$file.header"
  tail -c +$((9 + length)) "$file" >"$file.data"
  { le64 "$(stat -c %s "$file.header")"; cat "$file.header" "$file.data"; } >"$file"
  rm "$file.header" "$file.data"
}

# write_safetensors FILE HEADER [DATA_BYTES]: a safetensors file with this header text and
# DATA_BYTES zero bytes of tensor data.
write_safetensors() {
  { le64 "${#2}"; printf '%s' "$2"; head -c "${3:-0}" /dev/zero; } >"$1"
}

# rehash CKPT_DIR FILE: makes checkpoint.json's size and hash for FILE match its new bytes, so a
# load gets past the manifest to the file's own checks.
rehash() {
  local manifest=$1/checkpoint.json size hash
  size=$(stat -c %s "$1/$2")
  hash=$(fnv1a64 "$1/$2")
  sed -z -i -E "s/(\"$2\": *\\{[^}]*\"bytes\": *)[0-9]+/\\1$size/; s/(\"$2\": *\\{[^}]*\"fnv1a64\": *\")[0-9a-f]+/\\1$hash/" "$manifest"
}

# checkpoint: a copy of the fixture run's checkpoint in ./ck.
checkpoint() {
  cp -r "$FIX/run" ck
}

# phrase_file FILE: a "ding" dictionary of 252 made-up phrase pairs ("ein altes Haus :: an old
# house"), enough for an mt run's three splits.
phrase_file() {
  local noun adjective
  echo "# generated" >"$1"
  for noun in Haus:house Baum:tree Hund:dog Tisch:table Weg:path Berg:hill Stuhl:chair \
    Ball:ball Fisch:fish Turm:tower Zug:train Hut:hat; do
    echo "${noun%%:*} {m} :: ${noun##*:}"
    for adjective in kleines:small altes:old neues:new rotes:red gutes:good langes:long \
      kaltes:cold warmes:warm blaues:blue hohes:high; do
      echo "${adjective%%:*} ${noun%%:*} :: ${adjective##*:} ${noun##*:}"
      echo "ein ${adjective%%:*} ${noun%%:*} :: a ${adjective##*:} ${noun##*:}"
    done
  done >>"$1"
}

# mt_checkpoint: a two-step translator run on phrase_file's pairs, in ./ck.
mt_checkpoint() {
  phrase_file pairs.txt
  "$MMX" train --task mt --data "$PWD/pairs.txt" --layers 1 --d-model 8 --heads 2 --batch 2 \
    --eval-batch 2 --warmup 0 --steps 2 --eval-interval 2 --threads 1 --out ck >/dev/null 2>&1
}

# add_symbol CKPT_DIR: one symbol more in the checkpoint's tokenizer ('~', after every letter),
# with the manifest's hash fixed: a tokenizer one id longer than the model's tables.
add_symbol() {
  edit_header "$1/model.safetensors" 's/\(\\"vocab\\":\[[^]]*\)\]/\1,\\"~\\"]/'
  rehash "$1" model.safetensors
}
