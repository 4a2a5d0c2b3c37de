"""The seed Keras example's preprocessing ("3D image classification from CT scans"), as a whole process.

Usage: python3 seed_preprocess.py IN.nii[.gz] OUT.npy [DEPTH WIDTH HEIGHT]

read_nifti_file, normalize and resize_volume are the example's own functions (target 128x128x64 by default);
`ctscan bench startup` runs this script next to `ctscan preprocess` to compare whole-process times. Needs numpy,
scipy and nibabel.
"""
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage


def read_nifti_file(filepath):
    """Read and load volume"""
    scan = nib.load(filepath)
    scan = scan.get_fdata()
    return scan


def normalize(volume):
    """Normalize the volume"""
    min = -1000
    max = 400
    volume[volume < min] = min
    volume[volume > max] = max
    volume = (volume - min) / (max - min)
    volume = volume.astype("float32")
    return volume


def resize_volume(img, desired_depth=64, desired_width=128, desired_height=128):
    """Resize across z-axis"""
    current_depth = img.shape[-1]
    current_width = img.shape[0]
    current_height = img.shape[1]
    depth = current_depth / desired_depth
    width = current_width / desired_width
    height = current_height / desired_height
    depth_factor = 1 / depth
    width_factor = 1 / width
    height_factor = 1 / height
    img = ndimage.rotate(img, 90, reshape=False)
    img = ndimage.zoom(img, (width_factor, height_factor, depth_factor), order=1)
    return img


def process_scan(path, depth, width, height):
    """Read and resize volume"""
    volume = read_nifti_file(path)
    volume = normalize(volume)
    volume = resize_volume(volume, depth, width, height)
    return volume


if __name__ == "__main__":
    if len(sys.argv) not in (3, 6):
        sys.exit("usage: seed_preprocess.py IN.nii[.gz] OUT.npy [DEPTH WIDTH HEIGHT]")
    size = [int(v) for v in sys.argv[3:6]] or [64, 128, 128]
    np.save(sys.argv[2], process_scan(sys.argv[1], *size))
