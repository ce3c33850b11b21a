"""Pooling as feature reduction: how well does a classifier do on pooled digits?

scikit-learn's bundled 8x8 handwritten digits (1,797 images, values 0..16) are pooled
to 4x4 and 2x2 with every poolcli mode through the library API, and a k-nearest-
neighbours classifier (k=5, features standardised on the training part, an 80/20
split with seed 42, not stratified: the seed experiment's own split) is trained
on each. The table shows the test accuracy beside the unpooled 8x8 baseline.

scikit-learn is needed for this example only (it is not a poolcli dependency):

    pip install scikit-learn
    python examples/digits_knn.py
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import poolcli

SEED = 42


def accuracy(features: np.ndarray, labels: np.ndarray) -> float:
    """Test accuracy of a standardised 5-NN classifier on an 80/20 split."""
    train_x, test_x, train_y, test_y = train_test_split(
        features, labels, test_size=0.2, random_state=SEED
    )
    model = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=5))
    model.fit(train_x, train_y)
    return float(model.score(test_x, test_y))


def pooled_features(images: np.ndarray, kernel: int, mode: str) -> np.ndarray:
    """(N, 8, 8) images pooled to (N, 8/kernel, 8/kernel), flattened per image."""
    # the batch axis rides along: axes (1, 2) are the spatial ones
    pooled = poolcli.pool(images, kernel, mode=mode, axes=(1, 2))
    return pooled.reshape(len(images), -1).astype(np.float64)


def main() -> None:
    digits = load_digits()
    images = digits.images.astype(np.uint8)  # values 0..16, exact integers
    labels = digits.target
    rows = [("none", "8x8", 64, accuracy(images.reshape(len(images), -1), labels))]
    for kernel in (2, 4):
        side = f"{8 // kernel}x{8 // kernel}"
        for mode in poolcli.PoolMode:
            features = pooled_features(images, kernel, mode.value)
            rows.append((mode.value, side, features.shape[1], accuracy(features, labels)))
    print("| mode | pooled to | features per image | test accuracy |")
    print("| --- | --- | ---: | ---: |")
    for mode, side, count, score in rows:
        print(f"| {mode} | {side} | {count} | {score:.3f} |")


if __name__ == "__main__":
    main()
