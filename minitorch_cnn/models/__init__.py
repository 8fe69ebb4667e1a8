"""The model zoo: every classic CNN under its paper name (``from minitorch_cnn.models import
VGG16``) and, where torchvision has it, under torchvision's lower-case name with its layout."""
# --- zoo I: LeNet-5 to ResNeXt ---
# --- zoo II: DeepFace, U-Net, dense, light-weight, highway, dilated, SPP, ... ---
