<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.0" styleCategories="AllStyleCategories">
  <pipe>
    <rasterrenderer type="singlebandpseudocolor" band="1" classificationMin="-0.2" classificationMax="0.9" opacity="1" alphaBand="-1">
      <rasterTransparency/>
      <rastershader>
        <colorrampshader colorRampType="INTERPOLATED" classificationMode="1" clip="0" minimumValue="-0.2" maximumValue="0.9">
          <item value="-0.2" color="#a50026" label="-0.2" alpha="255"/>
          <item value="0.0" color="#f46d43" label="0" alpha="255"/>
          <item value="0.2" color="#fee08b" label="0.2" alpha="255"/>
          <item value="0.4" color="#d9ef8b" label="0.4" alpha="255"/>
          <item value="0.6" color="#66bd63" label="0.6" alpha="255"/>
          <item value="0.9" color="#006837" label="0.9" alpha="255"/>
        </colorrampshader>
      </rastershader>
    </rasterrenderer>
    <brightnesscontrast brightness="0" contrast="0" gamma="1"/>
    <huesaturation saturation="0" colorizeOn="0" grayscaleMode="0"/>
    <rasterresampler maxOversampling="2"/>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
