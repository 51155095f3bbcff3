// skalds/cache: the Cache Memory layer.
export {}
